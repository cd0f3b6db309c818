"""The dashboard's pages: each module has `layout(view, data)` and `register(app, data)`."""
