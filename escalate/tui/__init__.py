"""The terminal app (Textual). Everything here is a face over the core: it never touches SQLite."""
