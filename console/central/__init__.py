"""A simulator of the central authority, for tests, training and demos: its own keys, its own grants.

The station's code never imports this package (a test checks it): the station knows the centre only by the
public keys of `central.public_keys` and the grant files it is given.
"""
