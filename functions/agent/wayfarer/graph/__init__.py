"""The travel-writer graph: state, nodes, prompts and wiring. Knows nothing about HTTP."""
