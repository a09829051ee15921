"""Speech over the Wyoming protocol: clients for remote recognisers and voices, and voicebot's own server."""
