"""Pictures a person looks at: the stack's dashboards drawn to scale, with a drill's series when given."""
