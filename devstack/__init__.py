"""The local stack: emulators and processes that stand in for Google Cloud on one machine."""
