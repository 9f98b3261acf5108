"""The default plugin set of imflask."""
