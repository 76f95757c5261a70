"""The dashboard offices open: its definition (board), Superset's import bundle built from it (bundle), and the
REST calls that apply and read it (superset_api)."""
