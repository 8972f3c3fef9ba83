"""Built-in ctk plugins: one module per Confluence resource."""
