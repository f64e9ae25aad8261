"""What every simulated namespace shares: ids, clock, errors, envelopes, request-id replay."""
