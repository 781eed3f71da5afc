"""Clock hardware backends: one module per board family, each a ClockHw class
(docs/DESIGN.md, "Backend contract").  Imported lazily by ktimers.core.init()."""
