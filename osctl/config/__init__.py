"""Configuration: loading YAML with positions, schema and semantic checks, the model."""
