/// Search distributions, fitness shaping and update rules (see SATR.md).
public enum Search {}
