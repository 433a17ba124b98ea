"""Reference images: the checker, the public-address policy, and the resolvers that enforce it."""
