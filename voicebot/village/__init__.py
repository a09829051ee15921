"""A village of shops on one service: finding the shop a buyer means, and routing messages to shops."""
