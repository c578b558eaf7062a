"""The mixer simulator: mixers on known learning curves, with outcomes, oracles and regret."""
