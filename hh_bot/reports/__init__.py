"""What the community sees of its own spend: charts and ledger exports."""
