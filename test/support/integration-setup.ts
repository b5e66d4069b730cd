// Integration tests start real JVMs and move real data: give them room.
jest.setTimeout(180_000);
