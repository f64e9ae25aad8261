"""This process's own peak resident set.

Not getrusage(RUSAGE_SELF).ru_maxrss: Linux keeps that across execve, so a bench child started by a
large parent (make bench's, after the app and simulator sections) reports the parent's peak as its
own. VmHWM belongs to the process's address space, which execve makes anew."""

from pathlib import Path


def self_peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory needs Linux's procfs")
