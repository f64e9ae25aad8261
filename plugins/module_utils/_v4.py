# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The words Prism Central v4 requests are written in, shared by the client (_prism) and the
namespace helpers (_vmm, _dataprotection, _clustermgmt, _prism_config) so that neither has to
import the other for them: an OData string literal, and a Change.
"""

from __future__ import annotations

from collections import namedtuple


def odata_quote(value):
    """An OData string literal: single quotes doubled, as OData requires."""
    return "'%s'" % str(value).replace("'", "''")


class Change(namedtuple("Change", "method namespace path args body")):
    """One mutation of a v4 entity, as a namespace helper spells it: the HTTP method, the namespace and
    path template, the path arguments (the ext_ids of what it changes), and the body (None for none).

    A `decide(entity)` given to PrismClient.change_fresh returns one, or None when nothing is needed.
    """

    __slots__ = ()
