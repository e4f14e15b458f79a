"""framelens core: schemes, passage windows, the network, artefacts on disk and the Predictor."""
