"""The browser voice chat: a second channel anyone can open from a link (see README "Browser chat")."""
