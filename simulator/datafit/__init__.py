"""Fit the baseline from a shop's transaction log (issue 16).

``importlog`` reads a CSV/Excel/Parquet log in chunks and reports bad rows;
``bgnbd`` fits the BG/NBD buy-till-you-die model by maximum likelihood (scipy);
``holdout`` splits the log at a date and checks the fitted forecast against what
happened; ``toscenario`` writes the fitted figures into a scenario file.
"""
