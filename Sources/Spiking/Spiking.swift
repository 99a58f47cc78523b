/// The bit-connectivity recurrent spiking network (see docs and RSNN.md).
public enum Spiking {}
