/// Population evaluation, normalization, checkpoints, metrics and plots.
public enum Training {}
