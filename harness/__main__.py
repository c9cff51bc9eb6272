from harness.cli import console

raise SystemExit(console())
