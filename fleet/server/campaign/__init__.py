"""Firmware campaigns run by the embedded server (Object 5), and the images they serve.

- :mod:`.files`: :class:`~.files.FileServer`, a CoAP file server (Block2, one
  copy of each image however many devices download it);
- :mod:`.outcome`: what one device's update came to, and a campaign's tally;
- :mod:`.run`: :class:`~.run.Campaign` — for each device Write the Package
  URI (or push the package block-wise), follow State and Update Result, Execute
  Update when Downloaded, wait for the device to come back, read the new
  ``/3/0/3`` Firmware Version.
"""

from fleet.server.campaign.files import FileServer
from fleet.server.campaign.outcome import CampaignReport, DeviceOutcome
from fleet.server.campaign.run import Campaign, CampaignOptions

__all__ = ["Campaign", "CampaignOptions", "CampaignReport", "DeviceOutcome", "FileServer"]
