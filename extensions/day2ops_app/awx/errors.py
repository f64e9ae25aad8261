class ExportError(ValueError):
    """Something in the catalog or a schedule that AWX cannot express; the message names the item, the
    field, and what to change."""
