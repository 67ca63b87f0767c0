"""The judge: how faithful, plausible and predictive generated videos are, read from pixels.

It reads held-out factory clips (shards), re-simulates their scenes for the truth
(scenes, render) and takes generated videos as plain arrays; it never imports the model.
"""
