class AccountError(Exception):
    """A refused account change, with the message the shopper sees."""
