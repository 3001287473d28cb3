"""Pipelines compose sources, transformations and stores; they hold no business logic."""
