"""HTTP-facing handlers, one module per namespace; each handler is named after its SDK operation."""
