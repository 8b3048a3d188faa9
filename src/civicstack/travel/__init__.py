"""Travel: flights and face boarding at airports, urban rail and parking touchpoints."""
