package nodeagent

import "sigs.k8s.io/controller-runtime/pkg/config"

// ctrlConfig lets several agents live in one process (the tests run two
// simulated nodes), which controller-runtime's unique-name check forbids.
func ctrlConfig(skip *bool) config.Controller {
	return config.Controller{SkipNameValidation: skip}
}
