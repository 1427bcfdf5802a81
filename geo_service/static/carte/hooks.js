// What one part of the page asks of another that is set up later, or only on some pages (the simulation panel is
// on the full map only): a function each, replaced by the part that answers. Kept here, not in either part, so
// that the modules import one another in one direction only.
export const hooks = {
  // while « Choisir sur la carte » is on: what a click on the map does instead of opening a commune's card
  pickOnMap: null,
  // the simulated actions, as the URL keeps them (simuler=epci:…,commune:…)
  simulationParam: () => "",
  // the selection of projects changed: the simulation's figures, counted on the former one, are stale
  selectionChanged: () => {},
};
