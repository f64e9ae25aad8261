"""A faithful simulator of the Nutanix Prism Central v4 REST API, for demos and tests."""
