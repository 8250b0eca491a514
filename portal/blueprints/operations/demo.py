"""The demonstration terminal: products, about 40 tanks in 3 areas, leases, contracts, open orders."""
