"""Figure code: each module draws one experiment's figures from its artifacts."""
