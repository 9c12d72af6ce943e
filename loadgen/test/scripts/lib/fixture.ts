// Reads its data with open() in the init context, relative to this file (lib/), not to the entry script.
export const fixture = JSON.parse(open('./data/fixture.json')) as { users: string[] };
