"""Text templates osctl writes (osctl init); shipped as package data."""
