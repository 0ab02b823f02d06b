"""Pictures a person looks at: the stack's dashboards laid out (`dashboards`), and the same dashboards
drawn with a drill's series (`drill_charts`); the page and grid they share (`drawing`), the scales of
a chart (`axes`)."""
