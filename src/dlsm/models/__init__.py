"""Small nn.Modules used by the labs."""
