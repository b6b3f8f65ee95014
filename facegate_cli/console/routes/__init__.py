"""The console's routes by area: the login, visits, clip media, strangers to review, the face library."""
