"""The staff dashboard's HTTP side: aiohttp and Jinja2 over the features' services."""
