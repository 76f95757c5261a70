"""The development harness around the pipeline: the demo world, the local stack and the CLI behind the Makefile."""
