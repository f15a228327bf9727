"""Book experiments: each function runs one chapter's sweep from explicit parameters and returns a result object."""
