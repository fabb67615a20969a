"""A realistic demo city (modelled on 德阳市) for trying the platform: departments, people and a catalogue."""
