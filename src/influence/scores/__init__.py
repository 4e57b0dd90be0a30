"""The three scores. Each module takes a Graph and returns float64 arrays in [0, 1] plus the
components behind them, so a campaign tool can show why an account scored as it did."""
