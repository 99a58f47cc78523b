import Spiking

// One env step of an empty Hopper-sized network, and the kernel level that ran it.
var network = BitsetNetwork(shape: try NetworkShape(observationSize: 11, actionSize: 3))
print("y = \(network.step(observation: [Float](repeating: 0.5, count: 11))), kernel level \(KernelLevel.active)")
