"""The web portal: server-rendered pages, every asset served by amphub itself."""
