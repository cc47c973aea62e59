"""One module per benchmark; each ``run(bench)`` returns its measurements."""
