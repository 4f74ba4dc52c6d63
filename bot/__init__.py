"""alumnibot: a platform-neutral core that hosts a university alumni group."""
