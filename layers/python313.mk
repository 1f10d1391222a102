# A CPython 3.13, the Lambda runtime's, to write bytecode with: python3.13 on PATH, or one that
# pyenv installed; empty when there is none. Included by layers/Makefile (DepsLayer) and
# functions/agent/Makefile (the functions).
PY313 ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
