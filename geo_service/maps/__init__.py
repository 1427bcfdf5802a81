"""Map pages and pictures: the Folium map, its page context, and server-rendered images of a territory."""
