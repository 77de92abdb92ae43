"""The dynamic pass: load a model in an isolated process and diff it against a reference."""
